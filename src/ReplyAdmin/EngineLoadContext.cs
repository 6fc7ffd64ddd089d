using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// The module's private load context: ReplyAdmin.Engine and everything it needs (MailKit, MimeKit, BouncyCastle)
    /// come from the module's dependencies folder, so a session that already loaded another MimeKit or MailKit
    /// keeps it, and ReplyAdmin gets its own.
    /// </summary>
    internal sealed class EngineLoadContext : AssemblyLoadContext
    {
        private readonly string _directory;

        internal EngineLoadContext(string directory)
            : base("ReplyAdmin", isCollectible: false)
        {
            _directory = directory;
        }

        // The assemblies the runtime started with: .NET's and PowerShell's own (System.Formats.Asn1,
        // System.Security.Cryptography.Pkcs, ...). Those are shared with the default context even when the
        // dependencies folder has a copy (MimeKit's package brings older ones), so that their types are the ones
        // the rest of the process uses.
        private static readonly HashSet<string> Platform = new HashSet<string>(
            ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? string.Empty)
                .Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries)
                .Select(Path.GetFileNameWithoutExtension),
            StringComparer.OrdinalIgnoreCase);

        /// <inheritdoc />
        protected override Assembly Load(AssemblyName assemblyName)
        {
            // Null hands the name to the default context.
            if (Platform.Contains(assemblyName.Name))
                return null;
            var path = Path.Combine(_directory, assemblyName.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }

    /// <summary>
    /// Runs when the module is imported: sends the cmdlet assembly's reference to ReplyAdmin.Engine into the private
    /// load context. Only ReplyAdmin.dll sits in the default context, and it names no MailKit or MimeKit type itself.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private const string EngineName = "ReplyAdmin.Engine";

        private static readonly EngineLoadContext Context = new EngineLoadContext(
            Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location), "dependencies"));

        /// <summary>The load context that holds the engine and its dependencies.</summary>
        internal static AssemblyLoadContext EngineContext => Context;

        /// <inheritdoc />
        public void OnImport()
        {
            // Import-Module -Force runs this again in the same process: register once.
            AssemblyLoadContext.Default.Resolving -= ResolveEngine;
            AssemblyLoadContext.Default.Resolving += ResolveEngine;
        }

        /// <inheritdoc />
        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            AssemblyLoadContext.Default.Resolving -= ResolveEngine;
        }

        private static Assembly ResolveEngine(AssemblyLoadContext context, AssemblyName assemblyName) =>
            assemblyName.Name == EngineName ? Context.LoadFromAssemblyName(assemblyName) : null;
    }
}
