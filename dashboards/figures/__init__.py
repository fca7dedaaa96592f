"""Pure builders: wire JSON in, plotly figures, cytoscape elements and table rows out. No I/O, no Dash state."""
