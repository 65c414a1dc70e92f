"""HTTP interfaces of the platform: JSON API, French HTML pages, admin API, health, metrics."""
