using System.Diagnostics;

namespace AgentCrm.Core.Platform.Http;

/// <summary>
/// X-Request-ID rules: a caller's id is kept when it is 1–128 characters of [A-Za-z0-9._:-] (enough for
/// GUIDs, ULIDs and trace ids, nothing that can break a log line or a header); otherwise the request
/// gets the W3C trace id, so logs, traces and problem responses share one id.
/// </summary>
public static class RequestId
{
    public const string Header = "X-Request-ID";
    public const int MaxLength = 128;

    public static bool IsWellFormed(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty || value.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    public static string Resolve(string? supplied) =>
        supplied is not null && IsWellFormed(supplied)
            ? supplied
            : Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N");
}
