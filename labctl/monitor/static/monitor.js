// Glue: draw the run's figures (built by the server with Plotly) and follow the run live.
async function drawFigures(runId) {
  const figures = await (await fetch(`/api/runs/${runId}/figures`)).json();
  const box = document.getElementById("figures");
  for (const item of figures) {
    let div = document.getElementById(`figure-${item.name}`);
    if (!div) {
      div = document.createElement("div");
      div.id = `figure-${item.name}`;
      div.className = "figure";
      box.appendChild(div);
    }
    Plotly.react(div, item.figure.data, item.figure.layout, {responsive: true});
  }
}

function showState(state) {
  document.getElementById("status").textContent = state.status;
  document.getElementById("status").className = `status-${state.status}`;
  document.getElementById("detail").textContent = state.detail;
  if (state.progress) {
    const p = state.progress;
    document.getElementById("progress-bar").value = p.total ? p.done / p.total : 1;
    document.getElementById("progress-text").textContent = `${p.task}: ${p.done} of ${p.total}`;
  }
}

window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("progress");
  if (!box) return;
  const runId = box.dataset.run;
  drawFigures(runId);
  if (["completed", "aborted", "failed", "interrupted"].includes(box.dataset.status)) return;
  let records = -1;
  const source = new EventSource(`/api/runs/${runId}/events`);
  source.addEventListener("update", (event) => {
    const state = JSON.parse(event.data);
    showState(state);
    if (state.records !== records) { records = state.records; drawFigures(runId); }
  });
  source.addEventListener("end", () => { source.close(); drawFigures(runId); });
});
