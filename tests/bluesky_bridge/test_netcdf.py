"""The NetCDF export: the HDF5 export's variables, dimensions, units and coordinates, for xarray."""

from __future__ import annotations

import h5py
import numpy as np
import xarray as xr

from labctl.cli import main
from labctl.store import Store


def test_the_netcdf_export_has_the_hdf5_exports_units_dimensions_and_coordinates(stored, tmp_path) -> None:
    path, mac, _ = stored
    nc, h5 = tmp_path / "run.nc", tmp_path / "run.h5"
    for target, kind in ((nc, "netcdf"), (h5, "hdf5")):
        assert main(["runs", "export", str(mac), "--store", str(path), "--format", kind, "--output", str(target)]) == 0
    ds = xr.open_dataset(nc, engine="h5netcdf")
    with h5py.File(h5) as f:
        records = f["records"]
        assert ds.attrs["procedure"] == f.attrs["procedure"] == "mac-transfer"
        assert ds.attrs["provenance.seed"] == f["provenance"].attrs["seed"] == 1
        numeric = [n for n, d in records.items() if d.attrs.get("encoding") != "json"]
        assert {"calibration", "mac_error_histogram", "weights"} <= set(numeric)
        for name in numeric:
            d = records[name]
            assert list(ds[name].dims) == [d.dims[i].label for i in range(d.ndim)], name
            assert ds[name].attrs["unit"] == d.attrs["unit"], name
            np.testing.assert_array_equal(ds[name].values, d[()])
            for i in range(d.ndim):                                   # an attached dimension scale: a coordinate
                for scale in d.dims[i].values():
                    label = d.dims[i].label
                    assert label in ds.coords and np.array_equal(ds.coords[label].values, scale[()])
            if "bin_edges" in d.attrs:                                 # a histogram: bin centres as coordinate
                edges = f[d.attrs["bin_edges"]][()]
                centres = ds.coords[d.dims[0].label]
                assert np.allclose(centres.values, (edges[1:] + edges[:-1]) / 2)
                assert centres.attrs["unit"] == f[d.attrs["bin_edges"]].attrs["unit"] == "MAC"
    assert ds["summary"].attrs["encoding"] == "json" and "mac_error_std" in str(ds["summary"].values)


def test_a_child_run_is_a_group(tmp_path) -> None:
    with Store(tmp_path / "runs.sqlite") as store:
        parent = store.begin_run("campaign", {"dies": [1, 2]}, {"host": "h", "virtual": True})
        child = store.begin_run("write-verify", {}, {}, parent=parent)
        store.record(child, "column_errors", np.arange(64), {"unit": "bits", "axes": ["column"]})
        store.event(child, "completed")
        store.event(parent, "completed")
    assert main(["runs", "export", str(parent), "--store", str(tmp_path / "runs.sqlite"), "--format", "netcdf",
                 "--output", str(tmp_path / "c.nc")]) == 0
    top = xr.open_dataset(tmp_path / "c.nc", engine="h5netcdf")
    assert top.attrs["provenance.virtual"] == 1 and list(top.attrs["parameters.dies"]) == [1, 2]
    sub = xr.open_dataset(tmp_path / "c.nc", engine="h5netcdf", group=f"children/run-{child}")
    assert sub["column_errors"].dims == ("column",) and sub["column_errors"].attrs["unit"] == "bits"
