"Shared by the bench scripts: what the machine's load says about a timing (scripts run as `python bench/NAME.py`)."
import os


def load_note(load_start) -> str:
    "What the 1-minute load average at the start says about other work on the machine."
    cores = os.cpu_count() or 1
    if load_start[0] < 0.75 * cores:
        return f"no other heavy work at the start (1-min load average {load_start[0]:.2f} on {cores} cores); load averages recorded"
    return f"shared machine: other jobs were using the CPU (1-min load average {load_start[0]:.2f} on {cores} cores at the start); load averages recorded"
