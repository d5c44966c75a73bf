"""The composition root: the only place concrete adapters meet. The CLI asks here for what it needs.

`components` builds the parts the settings choose (the enabled catalog, the model, Graph's endpoints
and scopes, the egress allowlist); `service` starts `appliance serve`; `teams` assembles the Teams side;
`catalog_check` is serve's start-up check of the catalog; `offboard` composes `appliance offboard`;
`dev` holds the dev tenant's configuration; `dev_world` is the only door to the dev world (dev tenant,
fakes, benchmark harnesses), which production installs leave out.
"""
