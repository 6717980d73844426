"use strict";
// The API explorer: Swagger UI (bundled, no CDN) over /openapi.json. Its introduction is the
// description's conventions text; "Authorize" takes a project API key for "Try it out".
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
    validatorUrl: null,
  });
});
