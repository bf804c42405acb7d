"""Getting trial data in and out: laboratory files now; exports and REDCap to come (issue 6)."""

from ldntrial.interop.lab_files import LabFile, read_lab_file

__all__ = ["LabFile", "read_lab_file"]
