"""Journeys (with their declared watch steps), the platform client, Locust users, load shapes,
browser journeys and the step events they write.

Owns how synthetic users act on the platform and what they record. Must not decide whether a
campaign failed, nor read results back (that is ``checks``).
"""
