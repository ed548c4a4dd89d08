"""One router per resource. ``PUBLIC`` routers answer anonymous requests; every other router is
included behind :func:`marketops.app.deps.require_user` by ``create_app``, so a new route is
private unless someone deliberately adds it to ``PUBLIC``."""
