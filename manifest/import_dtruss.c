/* placeholder: being written */
typedef int cordon_placeholder_import_dtruss;
