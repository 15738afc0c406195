// Upload and delete on the documents page. Both need the API key header, which a plain
// form cannot send. The key stays in the password field of this page only: it is never put
// in sessionStorage or localStorage, where any script on our origin could read it.
const keyInput = document.getElementById("apikey");
const statusBox = document.getElementById("upload-status");
const STATUS = {queued: "venter", running: "indekseres", done: "færdig", unchanged: "findes allerede",
                failed: "fejlede", interrupted: "afbrudt"};

function say(text) { statusBox.textContent = text; }

async function problemText(response) {
  try { const p = await response.json(); return p.detail || p.title; }
  catch { return `HTTP ${response.status}`; }
}

function describe(job) {
  return job.files.map(f => `${f.name}: ${STATUS[f.status] || f.status}${f.message ? " (" + f.message + ")" : ""}`).join("; ");
}

async function follow(jobUrl, prefix) {
  for (;;) {
    const job = await (await fetch(jobUrl, {headers: {"X-API-Key": keyInput.value}})).json();
    if (["done", "failed", "interrupted"].includes(job.status)) return job;
    say(`${prefix}Indekserer ${job.passages_done} af ${job.passages_total} afsnit. ${describe(job)}`);
    await new Promise(r => setTimeout(r, 700));
  }
}

// The list is fetched again instead of reloading the page, which would lose the key.
async function refreshList() {
  const page = await fetch("/dokumenter", {headers: {"X-API-Key": keyInput.value}});
  const fresh = new DOMParser().parseFromString(await page.text(), "text/html");
  for (const selector of ["#list-title", ".doclist tbody"]) {
    const now = fresh.querySelector(selector);
    if (now) document.querySelector(selector).replaceWith(now);
  }
  bindDeletes();
}

// One request per file: each stays under the server's size limit, and one bad file does
// not hold back the others.
document.getElementById("upload").addEventListener("submit", async (event) => {
  event.preventDefault();
  const files = [...document.getElementById("files").files];
  const results = [];
  for (const [i, file] of files.entries()) {
    const prefix = files.length > 1 ? `Fil ${i + 1} af ${files.length}: ` : "";
    say(`${prefix}Sender ${file.name} …`);
    const data = new FormData();
    data.append("files", file);
    data.append("collection", document.getElementById("collection").value);
    const response = await fetch("/documents", {method: "POST", body: data, headers: {"X-API-Key": keyInput.value}});
    if (!response.ok) { results.push(`${file.name}: afvist (${await problemText(response)})`); continue; }
    results.push(describe(await follow(response.headers.get("Location"), prefix)));
  }
  say("Færdig. " + results.join("; "));
  await refreshList();
});

function bindDeletes() {
  for (const button of document.querySelectorAll("button.delete:not([data-bound])")) {
    button.dataset.bound = "1";
    button.addEventListener("click", async () => {
      if (!keyInput.value) { say("Skriv API-nøglen for at slette."); keyInput.focus(); return; }
      if (!confirm(`Slet «${button.dataset.title}» fra indekset?`)) return;
      const response = await fetch(`/documents/${button.dataset.id}`, {method: "DELETE", headers: {"X-API-Key": keyInput.value}});
      if (response.status === 204) { button.closest("tr").remove(); say(`«${button.dataset.title}» er slettet.`); }
      else { say("Sletning afvist: " + await problemText(response)); }
    });
  }
}
bindDeletes();
