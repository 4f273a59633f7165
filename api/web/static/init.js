// Starts GOV.UK Frontend's components (a module file: the Content-Security-Policy allows no
// inline script). The class tells the stylesheet that JavaScript components will work.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported");
initAll();
