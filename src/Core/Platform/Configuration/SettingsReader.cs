using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace AgentCrm.Core.Platform.Configuration;

/// <summary>
/// Reads typed settings and collects every problem instead of throwing at the first, so start-up
/// can list them all in one message. Options classes read themselves through it.
/// </summary>
public sealed class SettingsReader(IConfiguration configuration)
{
    private readonly List<ConfigurationProblem> _problems = [];
    private readonly SortedSet<string> _settingsRead = new(StringComparer.Ordinal);

    public IReadOnlyList<ConfigurationProblem> Problems => _problems;

    /// <summary>Every setting name asked for, so a test can check the README documents each one.</summary>
    public IReadOnlyCollection<string> SettingsRead => _settingsRead;

    public void ThrowIfProblems()
    {
        if (_problems.Count > 0)
        {
            throw new ConfigurationException(_problems);
        }
    }

    public void Report(string setting, string problem, string example) =>
        _problems.Add(new ConfigurationProblem(setting, problem, example));

    /// <summary>The first non-blank value among the setting and its aliases (e.g. OTEL_* variables).</summary>
    public string? Raw(string setting, params string[] aliases)
    {
        _settingsRead.Add(setting);
        foreach (var alias in aliases)
        {
            _settingsRead.Add(alias);
        }

        foreach (var key in aliases.Prepend(setting))
        {
            var value = configuration[key];
            if (!string.IsNullOrWhiteSpace(value))
            {
                return value.Trim();
            }
        }

        return null;
    }

    public string? OptionalString(string setting, params string[] aliases) => Raw(setting, aliases);

    public string RequiredString(string setting, string example, params string[] aliases)
    {
        var value = Raw(setting, aliases);
        if (value is null)
        {
            Report(setting, "is missing", example);
            return string.Empty;
        }

        return value;
    }

    public int WholeNumber(string setting, int defaultValue, int min, int max, params string[] aliases)
    {
        var raw = Raw(setting, aliases);
        if (raw is null)
        {
            return defaultValue;
        }

        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Report(setting, $"must be a whole number from {min} to {max}, got \"{raw}\"", defaultValue.ToString(CultureInfo.InvariantCulture));
            return defaultValue;
        }

        return value;
    }

    public double Number(string setting, double defaultValue, double min, double max, params string[] aliases)
    {
        var raw = Raw(setting, aliases);
        if (raw is null)
        {
            return defaultValue;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Report(setting, $"must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, got \"{raw}\"",
                defaultValue.ToString(CultureInfo.InvariantCulture));
            return defaultValue;
        }

        return value;
    }

    public bool Bool(string setting, bool defaultValue, params string[] aliases)
    {
        var raw = Raw(setting, aliases);
        if (raw is null)
        {
            return defaultValue;
        }

        if (!bool.TryParse(raw, out var value))
        {
            Report(setting, $"must be true or false, got \"{raw}\"", defaultValue ? "true" : "false");
            return defaultValue;
        }

        return value;
    }

    public TEnum Enum<TEnum>(string setting, TEnum defaultValue, params string[] aliases)
        where TEnum : struct, Enum
    {
        var raw = Raw(setting, aliases);
        if (raw is null)
        {
            return defaultValue;
        }

        if (!System.Enum.TryParse<TEnum>(raw, ignoreCase: true, out var value) || !System.Enum.IsDefined(value) || int.TryParse(raw, out _))
        {
            Report(setting, $"must be one of {string.Join(", ", System.Enum.GetNames<TEnum>())}, got \"{raw}\"", defaultValue.ToString());
            return defaultValue;
        }

        return value;
    }

    public Uri? OptionalAbsoluteUri(string setting, string example, params string[] aliases)
    {
        var raw = Raw(setting, aliases);
        if (raw is null)
        {
            return null;
        }

        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            Report(setting, $"must be an absolute http(s) URL, got \"{raw}\"", example);
            return null;
        }

        return uri;
    }
}
