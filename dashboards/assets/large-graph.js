/* Large graphs stay responsive: while the user drags or zooms, Cytoscape draws a cached texture of the graph
   instead of every element (its own `textureOnViewport` option, which dash-cytoscape 1.0.2 does not expose as a
   prop). Turned on above LARGE elements only: on small graphs the full redraw is cheap and looks better. */
(function () {
  "use strict";
  var LARGE = 400;
  var tuned = null;
  function tune() {
    var cy = window.cy;
    if (!cy || typeof cy.renderer !== "function") { return; }
    var renderer = cy.renderer();
    if (renderer) { renderer.textureOnViewport = cy.elements().length > LARGE; }
    if (tuned !== cy) {  // a new Cytoscape instance (page load): follow its element changes
      tuned = cy;
      cy.on("add remove", tune);
    }
  }
  window.setInterval(tune, 1000);  // cheap: finds the instance once it exists, re-checks after re-mounts
})();
