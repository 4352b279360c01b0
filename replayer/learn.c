/* placeholder: being written */
typedef int cordon_placeholder_learn;
