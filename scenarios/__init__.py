"""Journeys, the platform client, Locust users, load shapes and browser journeys.

Owns how synthetic users act on the platform. Must not decide whether a step failed.
"""
