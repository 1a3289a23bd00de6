"""需求清单: data needs filed by departments, routed by the 共享主管部门, answered by providers.

Kept in its own package (models, policy, services, routing, pages, API, admin) beside the
objections of ``governance``; ``governance.models`` imports the model so Django registers
it with the app.
"""
