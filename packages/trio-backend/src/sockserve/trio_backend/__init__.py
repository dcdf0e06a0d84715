"""Serving sockserve servers under trio (not yet built"""
