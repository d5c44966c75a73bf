"""The dev world of the aidizen appliance, beside the product: the embedded dev tenant (Entra, Graph and
Bot Framework emulators over real HTTPS), the fakes for unit tests and the benchmark harnesses.

It is installed only for development (`make venv` runs `pip install -e ./dev`), never in the production
image. The appliance reaches it only through `appliance.wiring.dev_world`.
"""
