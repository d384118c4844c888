// The submissions table of index.html: sort by a column (aria-sort on its header), filter by
// score range, failed question and status. Allowed by its hash in the page's CSP.
(() => {
  "use strict";
  const table = document.getElementById("submissions");
  const form = document.getElementById("filters");
  if (!table || !form) return;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const headers = Array.from(table.tHead.rows[0].cells);
  const shown = document.getElementById("shown");
  const names = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});

  function value(row, column, numeric) {
    const cell = row.cells[column];
    const text = cell.dataset.sort ?? cell.textContent.trim();
    if (!numeric) return text;
    return text === "" ? null : Number(text);
  }

  function sort(header, direction) {
    const column = header.cellIndex;
    const numeric = header.dataset.type === "number";
    const sign = direction === "ascending" ? 1 : -1;
    const sorted = rows.slice().sort((a, b) => {
      const x = value(a, column, numeric), y = value(b, column, numeric);
      if (x === null || y === null) return x === y ? 0 : (x === null ? 1 : -1);  // blanks last
      const order = numeric ? x - y : names.compare(x, y);
      return sign * order || names.compare(a.dataset.name, b.dataset.name);
    });
    for (const h of headers) h.removeAttribute("aria-sort");
    header.setAttribute("aria-sort", direction);
    body.append(...sorted);
  }

  for (const header of headers) {
    const button = header.querySelector("button");
    if (!button) continue;
    button.addEventListener("click", () => {
      sort(header, header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending");
    });
  }

  function filter() {
    const low = parseFloat(form.elements.low.value);
    const high = parseFloat(form.elements.high.value);
    const failed = form.elements.failed.value;
    const status = form.elements.status.value;
    let count = 0;
    for (const row of rows) {
      const score = row.dataset.score === "" ? NaN : Number(row.dataset.score);
      const keep = (isNaN(low) || score >= low) && (isNaN(high) || score <= high)
        && (!failed || row.dataset.failed.split(" ").includes(failed))
        && (!status || row.dataset.status.split(" ").includes(status));
      row.hidden = !keep;
      count += keep;
    }
    shown.textContent = count === rows.length ? `all ${rows.length} submissions`
      : `${count} of ${rows.length} submissions`;
  }

  form.addEventListener("input", filter);
  form.addEventListener("change", filter);
  form.addEventListener("submit", (event) => event.preventDefault());
  // Cleared by hand so the table is filtered before the click returns (a native reset would
  // change the fields only after its event, and a deferred filter races the next action).
  function clear() {
    for (const field of form.elements) {
      if (field instanceof HTMLSelectElement) {
        const preset = Array.from(field.options).find((option) => option.defaultSelected);
        field.value = preset ? preset.value : (field.options[0]?.value ?? "");
      } else if (field instanceof HTMLInputElement) {
        field.value = field.defaultValue;
      }
    }
  }

  form.addEventListener("reset", (event) => {
    event.preventDefault();
    clear();
    filter();
  });
  for (const button of document.querySelectorAll("button[data-failed]")) {
    button.addEventListener("click", () => {
      clear();
      form.elements.failed.value = button.dataset.failed;
      filter();
      table.parentElement.scrollTop = 0;
      document.getElementById("table-title").scrollIntoView({block: "start"});
    });
  }
  form.hidden = false;
  for (const button of document.querySelectorAll("button[data-failed]")) button.hidden = false;
  filter();
})();
