namespace AgentCrm.Core.Identity;

/// <summary>
/// The minimum strength rule: 10 to 128 characters, a letter and a non-letter, not a well-known
/// password, not the email's own name. Length does most of the work (NIST SP 800-63B style): no
/// composition games beyond that.
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 10;
    public const int MaxLength = 128;

    private static readonly HashSet<string> WellKnown = new(StringComparer.OrdinalIgnoreCase)
    {
        "password1234", "password123", "1234567890", "qwertyuiop", "qwerty12345", "iloveyou123", "letmein1234",
        "welcome1234", "admin12345", "passw0rd123", "abc1234567", "1q2w3e4r5t", "qwerty123456", "password1!",
    };

    public static string? Problem(string? password, string email)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinLength)
        {
            return $"must be at least {MinLength} characters.";
        }

        if (password.Length > MaxLength)
        {
            return $"must be at most {MaxLength} characters.";
        }

        if (!password.Any(char.IsLetter) || password.All(char.IsLetter))
        {
            return "must contain a letter and a digit or symbol.";
        }

        if (WellKnown.Contains(password))
        {
            return "is too common.";
        }

        var name = email.Split('@')[0];
        return name.Length >= 4 && password.Contains(name, StringComparison.OrdinalIgnoreCase)
            ? "must not contain your email address."
            : null;
    }
}
