using System.Net.Mail;

namespace AgentCrm.Core.Identity;

/// <summary>Email addresses as accounts use them: trimmed, at most 254 characters, compared in lower case.</summary>
public static class EmailAddress
{
    public static string? Problem(string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return "is required.";
        }

        var trimmed = email.Trim();
        if (trimmed.Length > 254)
        {
            return "must be at most 254 characters.";
        }

        return MailAddress.TryCreate(trimmed, out var parsed) && parsed.Address == trimmed && trimmed.Contains('.', StringComparison.Ordinal)
            ? null
            : "is not a valid email address.";
    }

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();
}
