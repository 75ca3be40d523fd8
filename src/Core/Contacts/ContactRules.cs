using System.Text.RegularExpressions;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Validation;

namespace AgentCrm.Core.Contacts;

/// <summary>Field rules for contacts; each adds its messages under the field's name.</summary>
internal static partial class ContactRules
{
    public const int MaxName = 200;
    public const int MaxCompany = 200;
    public const int MaxTags = 20;
    public const int MaxTag = 50;

    [GeneratedRegex(@"^\+[1-9][0-9]{1,14}$", RegexOptions.CultureInvariant)]
    private static partial Regex E164Pattern();

    public static void Email(ValidationErrors errors, string? email)
    {
        if (EmailAddress.Problem(email) is { } problem)
        {
            errors.Add("email", problem);
        }
    }

    public static void Phone(ValidationErrors errors, string? phone)
    {
        if (phone is not null && !E164Pattern().IsMatch(phone))
        {
            errors.Add("phone", "must be in E.164 form: + then country code and number, up to 15 digits (e.g. +14155550123).");
        }
    }

    public static void Status(ValidationErrors errors, string? status, string field = "status")
    {
        if (!ContactStatuses.IsValid(status))
        {
            errors.Add(field, $"must be one of {string.Join(", ", ContactStatuses.All)}.");
        }
    }

    /// <summary>Tags are trimmed, lower-cased (so filters match whatever case was typed) and deduplicated.</summary>
    public static string[] Tags(ValidationErrors errors, IReadOnlyList<string>? tags)
    {
        if (tags is null)
        {
            return [];
        }

        var normalized = new List<string>(tags.Count);
        foreach (var tag in tags)
        {
            var value = Tag(errors, tag, "tags");
            if (value is not null && !normalized.Contains(value, StringComparer.Ordinal))
            {
                normalized.Add(value);
            }
        }

        if (normalized.Count > MaxTags)
        {
            errors.Add("tags", $"must have at most {MaxTags} distinct tags.");
        }

        return [.. normalized];
    }

    public static string? Tag(ValidationErrors errors, string? tag, string field)
    {
        var value = tag?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(value) || value.Length > MaxTag || value.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add(field, $"each tag must be 1 to {MaxTag} characters (not counting surrounding spaces).");
            return null;
        }

        return value;
    }
}
