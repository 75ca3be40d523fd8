using System.Text.RegularExpressions;

namespace AgentCrm.Core.Platform.Validation;

/// <summary>
/// The one email rule, for accounts, invitations and contacts alike: at most 254 characters and
/// deliberately loose (no RFC 5322 parser): one @, a local part within SMTP's 64 characters, a dot in the
/// domain, no whitespace. Deliverability is the mail provider's to judge. Accounts compare in lower case.
/// </summary>
public static partial class EmailAddress
{
    public const int MaxLength = 254;

    [GeneratedRegex(@"^[^\s@]{1,64}@[^\s@.][^\s@]*\.[^\s@]*[^\s@.]$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>What is wrong with <paramref name="email"/> as given (no trimming), or null.</summary>
    public static string? Problem(string? email) =>
        string.IsNullOrEmpty(email) ? "is required."
        : email.Length > MaxLength ? $"must be at most {MaxLength} characters."
        : Pattern().IsMatch(email) ? null
        : "must be an email address like name@example.com.";

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();
}
