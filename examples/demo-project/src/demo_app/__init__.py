"""demo-app: deliberately insecure code for bastion's example."""
