"""The pages: each module has `layout(...)` (static components, mounted once) and `register(app, ...)`."""
