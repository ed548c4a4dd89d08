// Starts Swagger UI (served from the swagger-ui-bundle-v2 wheel at /docs/assets/) on /docs.
// The page's session is the credential: requests that change something carry its CSRF token.
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("swagger-ui");
    if (!el || !window.SwaggerUIBundle) return;
    var csrf = el.dataset.csrf;
    window.SwaggerUIBundle({
      url: el.dataset.openapiUrl,
      domNode: el,
      deepLinking: true,
      validatorUrl: null,
      docExpansion: "list",
      defaultModelsExpandDepth: 0,
      requestInterceptor: function (req) {
        var method = (req.method || "GET").toUpperCase();
        if (csrf && ["GET", "HEAD", "OPTIONS"].indexOf(method) < 0) {
          req.headers["X-CSRF-Token"] = csrf;
        }
        return req;
      },
      onComplete: function () {
        el.dataset.drawn = "1";
        // the plain list stays for readers without JavaScript; Swagger UI replaces it
        var list = document.querySelector(".api-list-fallback");
        if (list) list.hidden = true;
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
