"""Dash component builders: values in, html/dcc trees out. Text children only: Dash escapes them."""
