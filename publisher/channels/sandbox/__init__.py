"""Sandbox services: small HTTP servers on 127.0.0.1 that speak the platforms' wire protocols, for tests and the demo."""
