"""The governed SQL gateway: templates, parameters, statements, results."""
