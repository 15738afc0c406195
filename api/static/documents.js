// Upload and delete on the documents page. Both need the API key header, which a plain
// form cannot send. The key stays in this tab only (sessionStorage).
const keyInput = document.getElementById("apikey");
const statusBox = document.getElementById("upload-status");
keyInput.value = sessionStorage.getItem("ops-api-key") || "";

function say(text) { statusBox.textContent = text; }

async function problemText(response) {
  try { const p = await response.json(); return p.detail || p.title; }
  catch { return `HTTP ${response.status}`; }
}

async function follow(jobUrl) {
  for (;;) {
    const job = await (await fetch(jobUrl)).json();
    const files = job.files.map(f => `${f.name}: ${({queued: "venter", running: "indekseres", done: "færdig", unchanged: "findes allerede", failed: "fejlede"})[f.status]}${f.message ? " (" + f.message + ")" : ""}`);
    say(`Indekserer ${job.passages_done} af ${job.passages_total} afsnit. ${files.join("; ")}`);
    if (job.status === "done" || job.status === "failed") {
      say((job.status === "done" ? "Færdig. " : "Der opstod en fejl. ") + files.join("; "));
      setTimeout(() => location.reload(), 1200);
      return;
    }
    await new Promise(r => setTimeout(r, 700));
  }
}

document.getElementById("upload").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem("ops-api-key", keyInput.value);
  const data = new FormData();
  for (const file of document.getElementById("files").files) data.append("files", file);
  say("Sender filer …");
  const response = await fetch("/documents", {method: "POST", body: data, headers: {"X-API-Key": keyInput.value}});
  if (!response.ok) { say("Upload afvist: " + await problemText(response)); return; }
  follow(response.headers.get("Location"));
});

for (const button of document.querySelectorAll("button.delete")) {
  button.addEventListener("click", async () => {
    if (!keyInput.value) { say("Skriv API-nøglen for at slette."); keyInput.focus(); return; }
    if (!confirm(`Slet «${button.dataset.title}» fra indekset?`)) return;
    sessionStorage.setItem("ops-api-key", keyInput.value);
    const response = await fetch(`/documents/${button.dataset.id}`, {method: "DELETE", headers: {"X-API-Key": keyInput.value}});
    if (response.status === 204) { button.closest("tr").remove(); say(`«${button.dataset.title}» er slettet.`); }
    else { say("Sletning afvist: " + await problemText(response)); }
  });
}
