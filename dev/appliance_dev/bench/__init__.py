"""The benchmark harnesses behind `appliance bench`: one module per section (engine, store, graph, gate, e2e)."""
