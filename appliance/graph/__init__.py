"""Microsoft Graph as the Aid: msal sign-in and token cache, the msgraph-sdk gateway, one executor per tool
(docs/GRAPH.md). Only this room imports msal and msgraph."""
