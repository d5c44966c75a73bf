"""HOW text is made: the local llama.cpp model under a catalog grammar, or a BYO LLM; one valid catalog call
per message. Only this room imports llama_cpp, llguidance, outlines, numpy and the LLM SDKs."""
