"""Web pages for field staff, branch operations, marketing and admins: server-rendered
(Jinja2), Chinese by default, English per user, over the same services as the API."""
