// Starts Swagger UI on /docs (an external file: the Content-Security-Policy forbids inline scripts).
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
