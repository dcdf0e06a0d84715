"""sockserve.trio_backend: sockserve servers served by trio.

Not yet built: this distribution is an installable shell for now.
"""
