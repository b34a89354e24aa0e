"""HTTP routes, one module per API area (bouncer decisions now; alerts, watchers… later)."""
