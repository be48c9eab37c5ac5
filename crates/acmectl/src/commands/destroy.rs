//! `acmectl destroy`: the platform's stacks deleted in reverse order; what stays is listed.

use crate::cli::{DestroyArgs, Global, OutputFormat};
use crate::exit::{Code, Failure};
use crate::progress::Display;
use crate::render;
use acme_aws::{Deployer, Error, Stop};
use acme_synth::stacks::keys;

pub fn run(global: &Global, args: &DestroyArgs) -> Result<Code, Failure> {
    let checked = super::load_placed(&args.file, &[], &args.aws)?;
    let (platform, artifacts) = (checked.platform, checked.artifacts);
    if !args.yes && !super::interactive() {
        return Err(Failure::Input(miette::miette!(
            help = "pass --yes to destroy without typing the platform's name (CI)",
            "no terminal to confirm the destroy on; nothing was deleted"
        )));
    }
    let text = global.output == OutputFormat::Text;
    super::runtime()?.block_on(async {
        let sdk = super::sdk(&args.aws, &platform).await;
        let account = acme_aws::preflight::caller(&sdk).await?;
        if text {
            eprintln!("{}", render::account_line(&platform.name, &account));
        }
        let mut teardown = Deployer::new(&sdk).teardown(&artifacts, &sdk).await?;
        // Asked to go: not kept, and removed once its stack is gone.
        let staging = match teardown.kept.iter().position(|k| k.logical_id == keys::STAGING_BUCKET) {
            Some(i) if args.remove_staging_bucket => Some(teardown.kept.remove(i)),
            _ => None,
        };
        if teardown.stacks.is_empty() {
            match global.output {
                OutputFormat::Text => {
                    println!("Nothing to destroy: no stack of {} in this account and Region.", platform.name)
                }
                OutputFormat::Json | OutputFormat::Sarif => println!("{:#}", render::teardown_json(&teardown, &[])),
            }
            return Ok(Code::Ok);
        }
        if text {
            print!("{}", render::teardown_text(&teardown));
            if let Some(bucket) = &staging {
                println!(
                    "The staging bucket {} goes too, emptied, after its stack (--remove-staging-bucket).",
                    bucket.physical_id.as_deref().unwrap_or("(no name)")
                );
            }
        }
        if !teardown.protected.is_empty() {
            return Err(Error::Protected { protected: teardown.protected.clone() }.into());
        }
        if !args.yes {
            let answer = super::ask(&format!(
                "Type the platform's name ({}) to delete {} stack{} from account {} ({}):",
                platform.name,
                teardown.stacks.len(),
                if teardown.stacks.len() == 1 { "" } else { "s" },
                account.account_id,
                account.region
            ))?;
            if answer != platform.name {
                return Err(Failure::Refused(miette::miette!("the name did not match; nothing was deleted")));
            }
        }
        let names: Vec<String> = teardown.stacks.iter().map(|s| s.stack_name.clone()).collect();
        let display = Display::new(super::interactive() && text, &names);
        let shown = display.clone();
        let deployer = Deployer::new(&sdk).with_progress(move |e| shown.on(e));
        let (handle, stop) = Stop::new();
        let interrupt = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                handle.stop();
            }
        });
        let ticker = display.ticking();
        let result = deployer.destroy(&teardown, stop).await;
        drop(ticker);
        interrupt.abort();
        // What the deleted stacks left behind is listed whether or not the rest went.
        let deleted = result.deleted;
        let mut left = teardown.clone();
        left.kept.retain(|k| deleted.contains(&k.stack_name));
        let mut emptied = None;
        if let Some(bucket) = &staging
            && result.error.is_none()
            && deleted.contains(&bucket.stack_name)
            && let Some(name) = &bucket.physical_id
        {
            emptied = Some(deployer.remove_bucket(name).await?);
        }
        match global.output {
            OutputFormat::Text => {
                let verb = if result.error.is_some() { "Stopped destroying" } else { "Destroyed" };
                let n = deleted.len();
                println!("{verb} {}: {n} stack{} deleted.", platform.name, if n == 1 { "" } else { "s" });
                if let Some(objects) = emptied {
                    println!("The staging bucket went too, with its {objects} staged object versions.");
                }
                if !left.kept.is_empty() {
                    println!("Left in the account, as their DeletionPolicy says (delete them by hand if you mean to):");
                    print!("{}", render::kept_text(&left));
                }
            }
            OutputFormat::Json | OutputFormat::Sarif if result.error.is_none() => {
                println!("{:#}", render::teardown_json(&left, &deleted))
            }
            OutputFormat::Json | OutputFormat::Sarif => {}
        }
        match result.error {
            Some(e) => Err(e.into()),
            None => Ok(Code::Ok),
        }
    })
}
