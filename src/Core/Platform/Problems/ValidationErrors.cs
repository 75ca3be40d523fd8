namespace AgentCrm.Core.Platform.Problems;

/// <summary>Collects field messages so one 400 names every field to fix, not just the first.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }

        messages.Add(message);
    }

    /// <summary>Checks an optional text field: at most <paramref name="max"/> characters and no NUL, which PostgreSQL text cannot hold.</summary>
    public void Text(string field, string? value, int max, bool required = false)
    {
        if (value is null)
        {
            if (required)
            {
                Add(field, "is required.");
            }

            return;
        }

        if (required && string.IsNullOrWhiteSpace(value))
        {
            Add(field, "must not be empty.");
        }

        if (value.Length > max)
        {
            Add(field, $"must be at most {max} characters.");
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            Add(field, "must not contain NUL characters.");
        }
    }

    /// <exception cref="ProblemException">A validation problem when any field failed.</exception>
    public void ThrowIfAny()
    {
        if (!IsEmpty)
        {
            throw ProblemException.Validation(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
        }
    }
}
