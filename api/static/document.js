// Bring the cited passage into view and give it focus for screen readers. (A file, not an
// inline script: the pages' Content-Security-Policy runs scripts from /static only.)
const passage = document.getElementById("passage");
if (passage) { passage.scrollIntoView({block: "center"}); passage.focus({preventScroll: true}); }
