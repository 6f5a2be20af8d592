"""The clubsync CDK app's constructs: storage, member sync, scheduling, observability."""
