"""The threading and forking concurrency mix-ins (not yet built"""
