using AgentCrm.Core.Durable;
using AgentCrm.DurableHost;
using AgentCrm.Functions;

// serve (default): the app with the workflows and queue handlers above, as a worker process (chaos tests run two).
// bench [--count N] [--only engine|queues]: runs the engine scenarios in this process and prints a markdown table.
if (args.Length > 0 && args[0] == "bench")
{
    return await EngineBench.RunAsync(args[1..]);
}

// DurableHost__Versions (default "1,2") picks which versions of "Versioned" this build knows, so two
// processes can play the old and the new build of a slot swap.
await using var app = AgentCrmApp.Build(args, b =>
{
    b.Services.AddDurableFunctions(r => HostWorkflows.Register(r, HostWorkflows.ParseVersions(b.Configuration["DurableHost:Versions"])));
    HostQueues.Register(b);
});
await app.RunAsync();
return 0;
