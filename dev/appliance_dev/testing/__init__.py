"""Fakes for unit tests: a scripted model, fake Graph (tools and directory), a recording outbox, a memory
token cache. Never used by the appliance itself."""
