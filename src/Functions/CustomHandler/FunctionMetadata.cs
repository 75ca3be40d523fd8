using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentCrm.Functions.CustomHandler;

/// <summary>
/// Generates the function.json of every function the app has: the catch-all HTTP function "Api"
/// (anonymous, all methods, forwarded as-is; the app does auth) and one per registered host function.
/// </summary>
public static class FunctionMetadata
{
    public const string HttpFunctionName = "Api";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static IReadOnlyDictionary<string, string> Generate(IEnumerable<HostFunctionDefinition> functions)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [HttpFunctionName] = Render(new JsonArray
            {
                new JsonObject
                {
                    ["type"] = "httpTrigger", ["direction"] = "in", ["name"] = "req", ["authLevel"] = "anonymous", ["route"] = "{*path}",
                },
                new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" },
            }),
        };
        foreach (var function in functions)
        {
            files.Add(function.Name, Render((JsonArray)function.Bindings.DeepClone()));
        }

        return files;
    }

    /// <summary>Writes &lt;output&gt;/&lt;Name&gt;/function.json for each function.</summary>
    public static void Write(IEnumerable<HostFunctionDefinition> functions, string outputDirectory)
    {
        foreach (var (name, json) in Generate(functions))
        {
            var folder = Path.Combine(outputDirectory, name);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "function.json"), json);
        }
    }

    private static string Render(JsonArray bindings) =>
        new JsonObject { ["bindings"] = bindings }.ToJsonString(Indented).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
}
