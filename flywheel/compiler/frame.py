"""The frame: the one argument every compiled model function takes, shared by compiler and core.

A frame is a C struct of 8-byte fields (pointers, 64-bit integers, doubles), in the order below. The
LLVM side reads field ``k`` at byte offset ``8 * k``; the Python side builds the same struct with ctypes.
Per-member arrays are laid out in blocks of ``block`` members: value ``i`` of member ``m`` lives at
``array[((m // block) * rows + i) * block + m % block]`` (numpy shape (blocks, rows, block)). Members of
one block sit next to each other, so the compiled loops over a block's members vectorise, and every
address within a block is a constant offset from the block's base.
"""

from __future__ import annotations

import ctypes

# (name, kind): kind is "f64*", "u8*", "i64*", "i64" or "f64"
FRAME_FIELDS: tuple[tuple[str, str], ...] = (
    ("P", "f64*"),  # parameter values [n_params x stride]
    ("ovm", "u8*"),  # 1 where a parameter overrides the model's equation [n_params]
    ("lkx", "f64*"),  # lookup x values of member 0 (then + lk_stride per member)
    ("lky", "f64*"),
    ("lko", "i64*"),  # offset of each table in lkx/lky
    ("lkn", "i64*"),  # number of points of each table
    ("lk_stride", "i64"),  # 0: all members share the tables
    ("ctl", "f64*"),  # [t0, dt, tf, saveper] of the run, then their current values [8]
    ("Y", "f64*"),  # states [n_states x stride]
    ("C", "f64*"),  # values fixed at initialisation [n_static x stride]
    ("D", "f64*"),  # discrete state [n_discrete x stride]
    ("V", "f64*"),  # every named value [n_values x stride]
    ("doff", "i64*"),  # first row of each DELAY FIXED pipeline in D
    ("stride", "i64"),  # members allocated (a whole number of blocks)
    ("n", "i64"),  # members in this call (the rest is padding)
    ("d_rows", "i64"),  # rows of D (discrete state and DELAY FIXED pipelines)
    ("times", "f64*"),  # the time of every step of the run's grid (``probe``: of every member)
    ("schedule", "u8*"),  # 1 where a step's time is an output time
    ("k0", "i64"),  # first step to evaluate
    ("k1", "i64"),  # last step
    ("final", "i64"),  # 1: evaluate and record step k1, then stop; 0: stop before evaluating it
    ("bt_a", "f64*"),  # Butcher table [ns x ns], weights [ns], nodes [ns]
    ("bt_b", "f64*"),
    ("bt_c", "f64*"),
    ("ns", "i64"),
    ("K", "f64*"),  # stage derivatives [ns x n_states x stride]
    ("YS", "f64*"),  # stage states [n_states x stride]
    ("row_map", "i64*"),  # save number -> output row, or -1 to skip
    ("n_row_map", "i64"),
    ("nsave", "i64"),  # saves so far (in), and after the call (out)
    ("cols", "i64*"),  # value index of each output column
    ("ncols", "i64"),
    ("out", "f64*"),  # out[col * out_col_stride + (member0 + m) * out_member_stride + row]
    ("out_member_stride", "i64"),
    ("out_col_stride", "i64"),
    ("out_t", "f64*"),  # the time of each output row
    ("bad_state", "i64*"),  # per member: first state that became NaN/inf, or -1
    ("bad_state_time", "f64*"),
    ("bad_value", "i64*"),  # per member: first value found NaN/inf at an output time, or -1
    ("bad_value_time", "f64*"),
    ("block", "i64"),  # members advancing in lockstep: 1, or BLOCK
    ("member0", "i64"),  # index of member 0 of this call in ``out``
    ("time", "f64"),  # the time ``eval`` evaluates at
    ("dydt", "f64*"),  # derivatives written by ``eval`` [n_states x stride]
    ("init_first", "i64"),  # 1: ``run`` initialises each block before stepping it
    ("seed", "i64"),  # the run's seed for random draws
    ("streams", "i64*"),  # per member: its random stream (the ensemble's member number; 0 for a single run)
)
FIELD_INDEX = {name: i for i, (name, _) in enumerate(FRAME_FIELDS)}
N_CONTROL = 4  # ctl[0:4] the run's settings, ctl[4:8] their current values
CONTROLS = ("initial_time", "time_step", "final_time", "saveper")  # their order in ctl
CONTROL_NAMES = {
    "initial_time": "INITIAL TIME",
    "final_time": "FINAL TIME",
    "time_step": "TIME STEP",
    "saveper": "SAVEPER",
}
BLOCK = 8  # members advancing in lockstep in ensembles: one vector of doubles (AVX-512; two AVX2 registers)

# the functions every compiled model exports, each ``void f(frame*)``; the lockstep module (models that
# can run members in vectors) exports ``fw_run_lockstep``
ENTRY_POINTS = ("fw_controls", "fw_init", "fw_statics", "fw_eval", "fw_probe", "fw_run")
LOCKSTEP_ENTRY_POINTS = ("fw_run_lockstep",)


# ------------------------------------------------------------------------------------ the ctypes side

_CTYPES = {"f64*": ctypes.c_void_p, "u8*": ctypes.c_void_p, "i64*": ctypes.c_void_p, "i64": ctypes.c_int64, "f64": ctypes.c_double}


class Frame(ctypes.Structure):
    """The frame as a ctypes struct; pointer fields hold the addresses of numpy arrays."""

    _fields_ = [(name, _CTYPES[kind]) for name, kind in FRAME_FIELDS]
