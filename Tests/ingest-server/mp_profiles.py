"""/engage and /groups update operations applied to an in-memory profile map
(INGESTION_API.md sections 6 and 9.14)."""

import numbers

ENGAGE_OPS = ("$set", "$set_once", "$add", "$union", "$append", "$remove", "$unset", "$delete")
GROUP_OPS = ("$set", "$set_once", "$union", "$remove", "$unset", "$delete")


def _check(op, value):
    """Returns an error message when `value` has the wrong shape for `op`, else None."""
    if op == "$delete":
        return None
    if op == "$unset":
        if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
            return "$unset must be a list of property names"
        return None
    if not isinstance(value, dict):
        return f"{op} must be an object"
    if op == "$add":
        for v in value.values():
            if isinstance(v, bool) or not isinstance(v, numbers.Number):
                return "$add values must be numbers"
    if op == "$union":
        for v in value.values():
            if not isinstance(v, list):
                return "$union values must be lists"
    return None


def validate(update, allowed):
    """Checks one update's operations; returns (ops, error). `ops` lists the operations
    present, in the order they are applied."""
    ops = [op for op in allowed if op in update]
    unknown = [k for k in update if k.startswith("$") and k not in allowed and k not in _ENVELOPE]
    if unknown:
        return None, f"unsupported operation {unknown[0]}"
    if not ops:
        return None, "update has no operation"
    for op in ops:
        err = _check(op, update[op])
        if err:
            return None, err
    return ops, None


# Top-level keys that carry addressing or options rather than an operation.
_ENVELOPE = {"$token", "$distinct_id", "$group_key", "$group_id", "$ip", "$time", "$ignore_time",
             "$ignore_alias", "$latitude", "$longitude"}


def apply(profiles, key, update, ops):
    """Applies already validated operations to `profiles[key]`."""
    for op in ops:
        value = update[op]
        if op == "$delete":
            profiles.pop(key, None)
            continue
        profile = profiles.setdefault(key, {})
        if op == "$set":
            profile.update(value)
        elif op == "$set_once":
            for name, v in value.items():
                profile.setdefault(name, v)
        elif op == "$add":
            for name, v in value.items():
                current = profile.get(name, 0)
                profile[name] = (current if isinstance(current, numbers.Number) else 0) + v
        elif op == "$union":
            for name, items in value.items():
                current = profile.get(name)
                current = list(current) if isinstance(current, list) else []
                for item in items:
                    if item not in current:
                        current.append(item)
                profile[name] = current
        elif op == "$append":
            for name, item in value.items():
                current = profile.get(name)
                current = list(current) if isinstance(current, list) else []
                current.append(item)
                profile[name] = current
        elif op == "$remove":
            for name, item in value.items():
                current = profile.get(name)
                if isinstance(current, list):
                    profile[name] = [x for x in current if x != item]
        elif op == "$unset":
            for name in value:
                profile.pop(name, None)
