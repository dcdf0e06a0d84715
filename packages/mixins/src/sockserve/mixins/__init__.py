"""sockserve.mixins: the threading and forking concurrency mix-ins.

Not yet built: this distribution is an installable shell for now.
"""
