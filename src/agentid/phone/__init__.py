"""Phone numbers: provisioning, release, inbound SMS and the codes found in them."""
