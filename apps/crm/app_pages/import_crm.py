"""Import: the 4-step CRM wizard over the same loader as `devsignal import-crm`: (1) choose the
source, (2) upload up to three exports, (3) preview what each file was detected as and why, its
first rows and its field mapping (which can be changed), (4) run: new / updated / quarantined per
file, with the quarantined rows. ADMIN and above (checked again by apps.state.imports)."""

import shutil
import tempfile
from pathlib import Path

import streamlit as st

from apps.crm import auth
from apps.crm.data import clear_caches, escape_markdown
from apps.crm.data import imports as data
from apps.state import PermissionDenied
from apps.state import imports as commands

actor = auth.require_actor()
st.title("Import from a CRM")
state = st.session_state
state.setdefault("import_step", 1)
STEPS = ["Source", "Upload", "Preview", "Results"]
st.caption(" → ".join(f"**{n}. {s}**" if n == state.import_step else f"{n}. {s}" for n, s in enumerate(STEPS, 1)))
if not actor.at_least("ADMIN"):
    st.info("Importing needs the ADMIN role; you can look at the steps.")


def start_over() -> None:
    """Forget the wizard's state and delete the uploaded copies."""
    if state.get("import_dir"):
        shutil.rmtree(state.import_dir, ignore_errors=True)
    for key in [k for k in state if str(k).startswith("import_")]:
        del state[key]


def go(step: int) -> None:
    state.import_step = step


if state.import_step == 1:
    source = st.radio("Where is the export from?", list(data.SOURCES), format_func=data.SOURCES.get,
                      key="import_source_choice", horizontal=True)
    st.caption("The source decides how the files are read; detection is shown as advice on the next steps. "
               "HubSpot: contacts, companies, deals exports (with Record ID). Salesforce: contacts, accounts, "
               "opportunities reports (with their ID column). Generic: any contacts or companies CSV.")
    if st.button("Next", key="import_next_1", type="primary"):
        state.import_source = source
        go(2)
        st.rerun()

elif state.import_step == 2:
    st.write(f"Source: {data.SOURCES[state.import_source]}")
    uploads = st.file_uploader(f"Up to {data.MAX_FILES} CSV exports (contacts, companies, deals)", type=["csv"],
                               accept_multiple_files=True, key="import_uploads")
    back, nxt = st.columns([1, 8])
    back.button("Back", key="import_back_2", on_click=go, args=(1,))
    if nxt.button("Preview", key="import_next_2", type="primary", disabled=not uploads):
        if len(uploads) > data.MAX_FILES:
            st.error(f"At most {data.MAX_FILES} files at a time; you chose {len(uploads)}.")
        else:
            folder = Path(tempfile.mkdtemp(prefix="devsignal-import-"))
            paths = []
            for upload in uploads:
                path = folder / data.safe_file_name(upload.name)
                path.write_bytes(upload.getvalue())
                paths.append(str(path))
            if state.get("import_dir"):  # a second upload replaces the first one's copies
                shutil.rmtree(state.import_dir, ignore_errors=True)
            state.import_dir, state.import_files = str(folder), paths
            go(3)
            st.rerun()

elif state.import_step == 3:
    source = state.import_source
    previews, ready = [], True
    for number, path in enumerate(state.import_files):
        preview = data.preview(path, source)
        previews.append(preview)
        name = Path(path).name
        st.subheader(name)  # our own safe file name
        if preview.error:
            st.error(escape_markdown(preview.error))
            ready = False
            continue
        detection = preview.detection
        advisory = data.detected(path)
        cols = st.columns(4)
        cols[0].metric("Rows", f"{preview.rows:,}")
        cols[1].metric("Read as", detection.describe().split(" (")[0] if detection.known else "not loadable")
        cols[2].metric("Detected on its own", advisory.describe().split(" (")[0] if advisory and advisory.known else
                       "unknown", help="Detection with no source given: advice only, the chosen source decides.")
        cols[3].metric("Confidence", f"{advisory.confidence:.2f}" if advisory and advisory.known else "–")
        st.caption(f"{preview.shape.describe()}, {len(preview.shape.headers)} columns → "
                   + (f"raw_crm.{detection.table}" if detection.known else "no table"))
        if advisory and advisory.known and advisory.format != source:
            st.warning(f"This file looks like {advisory.describe()}, but the chosen source is "
                       f"{data.SOURCES[source]}.")
        if not detection.known:
            st.error(f"Cannot load this file as {data.SOURCES[source]}.")
            ready = False
        st.markdown("**Evidence**")
        st.dataframe({"header / rule": list(detection.evidence)}, hide_index=True, width="stretch")
        if detection.known:
            st.markdown("**Field mapping** (change a target to rename the column this header loads into)")
            mapping = preview.mapping
            edited = st.data_editor(mapping, hide_index=True, width="stretch", key=f"import_mapping_{number}",
                                    disabled=["header", "status"], column_config={
                                        "target": st.column_config.SelectboxColumn(
                                            options=preview.target_choices(), required=True)})
            state[f"import_targets_{number}"] = {h: t for h, t, old in zip(edited.header, edited.target,
                                                                          mapping.target) if t != old}
            if (mapping.status.str.startswith("NEW")).any():
                st.checkbox("Accept the new columns (the export changed on purpose)", key=f"import_accept_{number}")
        st.markdown("**First rows**")
        st.dataframe(preview.sample, hide_index=True, width="stretch")

    back, nxt = st.columns([1, 8])
    back.button("Back", key="import_back_3", on_click=go, args=(2,))
    if nxt.button("Run import", key="import_run", type="primary", disabled=not ready):
        results, failed = [], False
        for number, preview in enumerate(previews):
            name = Path(preview.path).name
            try:
                targets = state.get(f"import_targets_{number}") or {}
                path = preview.path
                if targets:
                    mapped = Path(preview.path).parent / "mapped"
                    mapped.mkdir(exist_ok=True)
                    path = data.apply_mapping(preview, targets, mapped)
                result = commands.run_import(actor, path, format_=source, display_name=name,
                                             accept_new_columns=bool(state.get(f"import_accept_{number}")))
                results.append({**result, "file": name})
            except PermissionDenied as refusal:
                st.error(f"Not allowed: {escape_markdown(refusal)}")
                failed = True
                break
            except (commands.ImportFailed, ValueError) as problem:
                st.error(f"{name}: nothing loaded.")
                st.code(str(problem), language=None)
                results.append({"file": name, "error": str(problem)})
        if results and not failed:
            state.import_results = results
            clear_caches()
            go(4)
            st.rerun()

elif state.import_step == 4:
    for result in state.get("import_results", []):
        st.subheader(result["file"])
        if "error" in result:
            st.error("Nothing loaded from this file.")
            st.code(result["error"], language=None)
            continue
        st.caption(f"{data.SOURCES.get(result['format'], result['format'])} {result['entity']} → "
                   f"raw_crm.{result['table']} · {result['rows_read']:,} rows read")
        cols = st.columns(4)
        cols[0].metric("Created", f"{result['new']:,}")
        cols[1].metric("Updated", f"{result['updated']:,}")
        cols[2].metric("Quarantined", f"{result['quarantined']:,}")
        cols[3].metric("Repeated in the file", f"{result['repeated_in_file']:,}",
                       help="The same record id twice: the later line won.")
        if result["formula_rows"]:
            st.warning(f"{result['formula_rows']:,} rows hold a cell that starts like a spreadsheet formula; "
                       "they are kept verbatim and neutralised on export.")
        if result["quarantined"]:
            st.markdown("**Quarantined rows**")
            st.dataframe(data.quarantined(result["file"]), hide_index=True, width="stretch")
    st.caption("The marts pick the new rows up at the next build.")
    st.button("Import more", key="import_restart", on_click=start_over)
