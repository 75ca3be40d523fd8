using AgentCrm.Functions.CustomHandler;

namespace AgentCrm.Functions.Cli;

/// <summary>`functions-json --output DIR`: writes DIR/{Function}/function.json for every function the app has.</summary>
public sealed class FunctionsJsonVerb : CliVerb
{
    public override string Name => "functions-json";

    public override string Summary => "Write the function.json of every function (the committed copies live in src/Functions/FunctionApp).";

    public override string Usage => """
        Usage: AgentCrm.Functions functions-json --output DIR

        Writes DIR/<FunctionName>/function.json for the HTTP catch-all (Api) and every host function,
        generated from the code. Run it after adding or changing a function and commit the result;
        a test fails while the committed files and the code disagree.
        """;

    public override Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (args.Length != 2 || args[0] != "--output")
        {
            error.WriteLine(Usage);
            return Task.FromResult(CliVerbs.UsageError);
        }

        FunctionMetadata.Write(HostFunctionCatalog.All, args[1]);
        output.WriteLine($"Wrote function.json for {HostFunctionCatalog.All.Count + 1} function(s) to {args[1]}.");
        return Task.FromResult(0);
    }
}
