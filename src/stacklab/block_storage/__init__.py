"""Block Storage (cinder v3): volume services bound to their hosts, types, volumes, snapshots."""
